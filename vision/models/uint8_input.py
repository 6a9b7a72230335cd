"""Give a float-input LiteRT model a uint8 pixel input, normalised inside the graph.

The pipeline feeds the models ``pixel * scale + offset`` in float32. For the
int8 builds that normalisation moves into the graph: the input becomes the
letterboxed uint8 pixels, and a DEQUANTIZE (``pixel * scale``) plus, where
the range does not start at 0, an ADD (``+ offset``) produce the float tensor
the rest of the graph already took. The arithmetic is the same float32
multiply and add the host did, so every output is bit-identical; the host
then copies a quarter of the bytes and skips two numpy passes per crop,
which sat on the critical path of every frame's first pass.

Build time only (``python -m vision.models.quantize``); nothing here runs on
the unit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.tools import flatbuffer_utils as fb

PIXELS = "pixels_uint8"


class InputError(ValueError):
    """The model's input is not a single float32 image tensor."""


def _opcode(model: Any, code: int) -> int:
    """Index of ``code`` in the model's operator codes, added when missing."""
    for i, existing in enumerate(model.operatorCodes):
        if fb.get_builtin_code_from_operator_code(existing) == code:
            return i
    entry = schema.OperatorCodeT()
    entry.builtinCode = code
    entry.deprecatedBuiltinCode = min(code, schema.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
    entry.version = 1
    model.operatorCodes.append(entry)
    return len(model.operatorCodes) - 1


def _tensor(model: Any, name: str, shape: list[int], kind: int,
            data: np.ndarray | None = None, scale: float | None = None) -> int:
    """Append a tensor (a constant when ``data`` is given) to subgraph 0; its index."""
    sg = model.subgraphs[0]
    tensor = schema.TensorT()
    tensor.name = name.encode()
    tensor.shape = list(shape)
    tensor.type = kind
    tensor.buffer = 0  # the empty buffer: a runtime tensor
    if data is not None:
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
        model.buffers.append(buffer)
        tensor.buffer = len(model.buffers) - 1
    if scale is not None:
        quant = schema.QuantizationParametersT()
        quant.scale = [scale]
        quant.zeroPoint = [0]
        tensor.quantization = quant
    sg.tensors.append(tensor)
    return len(sg.tensors) - 1


def _op(model: Any, code: int, inputs: list[int], outputs: list[int]) -> Any:
    op = schema.OperatorT()
    op.opcodeIndex = _opcode(model, code)
    op.inputs = inputs
    op.outputs = outputs
    if code == schema.BuiltinOperator.ADD:
        op.builtinOptionsType = schema.BuiltinOptions.AddOptions
        op.builtinOptions = schema.AddOptionsT()  # no fused activation
    return op


def uint8_input(content: bytes, scale: float, offset: float) -> bytes:
    """``content`` taking uint8 pixels; the graph computes ``pixel * scale + offset`` itself.

    The float input tensor stays as an intermediate fed by the new ops, so
    nothing downstream changes. Signatures point at the new input.
    """
    model = fb.read_model_from_bytearray(bytearray(content))
    if len(model.subgraphs) != 1 or len(model.subgraphs[0].inputs) != 1:
        raise InputError("expected one subgraph with one input")
    sg = model.subgraphs[0]
    old = int(sg.inputs[0])
    if sg.tensors[old].type != schema.TensorType.FLOAT32:
        raise InputError(f"input {sg.tensors[old].name!r} is not float32")
    shape = [int(d) for d in sg.tensors[old].shape]
    pixels = _tensor(model, PIXELS, shape, schema.TensorType.UINT8, scale=float(np.float32(scale)))
    if offset:
        scaled = _tensor(model, "pixels_scaled", shape, schema.TensorType.FLOAT32)
        constant = _tensor(model, "pixels_offset", [1], schema.TensorType.FLOAT32,
                           data=np.array([offset], np.float32))
        ops = [_op(model, schema.BuiltinOperator.DEQUANTIZE, [pixels], [scaled]),
               _op(model, schema.BuiltinOperator.ADD, [scaled, constant], [old])]
    else:
        ops = [_op(model, schema.BuiltinOperator.DEQUANTIZE, [pixels], [old])]
    sg.operators = ops + list(sg.operators)
    sg.inputs = [pixels]
    for sig in model.signatureDefs or []:
        for tmap in sig.inputs:
            if tmap.tensorIndex == old:
                tmap.tensorIndex = pixels
    return bytes(fb.convert_object_to_bytearray(model))
