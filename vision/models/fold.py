"""Turn a float16 (and sparse) LiteRT model into a plain float32 one, for quantizing.

MediaPipe ships its models with float16 weights, some stored sparse: every
weight reaches its CONV_2D through DEQUANTIZE (and DENSIFY) ops. A quantizer
works on constant float32 weights, so those chains are folded: the interpreter
evaluates them once (exactly what it does at run time) and their outputs
become float32 constants. The graph is otherwise untouched. A
``serving_default`` signature is added when the model has none, since
ai-edge-quantizer calibrates per signature.

Build time only (``python -m vision.models.quantize``); nothing here runs on
the unit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from ai_edge_litert.tools import flatbuffer_utils as fb

SIGNATURE = "serving_default"
# Ops that only reformat a constant (storage format, not arithmetic).
FOLDABLE = frozenset({schema.BuiltinOperator.DEQUANTIZE, schema.BuiltinOperator.DENSIFY})


class FoldError(RuntimeError):
    """The model has a shape this folding does not handle (several subgraphs, say)."""


def _is_constant(model: Any, tensor: Any) -> bool:
    data = model.buffers[tensor.buffer].data if tensor.buffer < len(model.buffers) else None
    return data is not None and len(data) > 0


def _foldable_ops(model: Any) -> list[int]:
    """Indices of ops that turn constants into constants, in graph order."""
    sg = model.subgraphs[0]
    constant = {i for i, t in enumerate(sg.tensors) if _is_constant(model, t)}
    found = []
    for k, op in enumerate(sg.operators):
        code = fb.get_builtin_code_from_operator_code(model.operatorCodes[op.opcodeIndex])
        if code in FOLDABLE and all(i in constant for i in op.inputs if i >= 0):
            found.append(k)
            constant.update(op.outputs)
    return found


def _evaluate(content: bytes, tensors: list[int]) -> dict[int, np.ndarray]:
    """Values of ``tensors`` after one invoke of the reference kernels (no delegate)."""
    interp = Interpreter(
        model_content=content,
        experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    interp.allocate_tensors()
    for detail in interp.get_input_details():
        interp.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    interp.invoke()
    return {i: np.array(interp.get_tensor(i)) for i in tensors}


def _prune(model: Any) -> None:
    """Drop tensors no op or signature uses any more, and buffers no tensor uses."""
    sg = model.subgraphs[0]
    used = set(sg.inputs) | set(sg.outputs)
    for op in sg.operators:
        used.update(i for i in op.inputs if i >= 0)
        used.update(op.outputs)
        used.update(i for i in (op.intermediates or []) if i >= 0)
    keep = sorted(used)
    remap = {old: new for new, old in enumerate(keep)}
    sg.tensors = [sg.tensors[i] for i in keep]
    sg.inputs = [remap[i] for i in sg.inputs]
    sg.outputs = [remap[i] for i in sg.outputs]
    for op in sg.operators:
        op.inputs = [remap[i] if i >= 0 else i for i in op.inputs]
        op.outputs = [remap[i] for i in op.outputs]
        if op.intermediates:
            op.intermediates = [remap[i] if i >= 0 else i for i in op.intermediates]
    for sig in model.signatureDefs or []:
        for tmap in [*sig.inputs, *sig.outputs]:
            tmap.tensorIndex = remap[tmap.tensorIndex]
    metadata = model.metadata or []
    referenced = {t.buffer for t in sg.tensors} | {m.buffer for m in metadata}
    buffers = [0, *sorted(referenced - {0})]
    bmap = {old: new for new, old in enumerate(buffers)}
    model.buffers = [model.buffers[i] for i in buffers]
    for t in sg.tensors:
        t.buffer = bmap[t.buffer]
    for m in metadata:
        m.buffer = bmap[m.buffer]
    # Deprecated list of buffer ids, already stale in the converter's output.
    model.metadataBuffer = None


def _add_signature(model: Any) -> None:
    if model.signatureDefs:
        return
    sg = model.subgraphs[0]

    def maps(indices: list[int]) -> list[Any]:
        out = []
        for i in indices:
            tmap = schema.TensorMapT()
            tmap.name = sg.tensors[i].name
            tmap.tensorIndex = i
            out.append(tmap)
        return out

    sig = schema.SignatureDefT()
    sig.signatureKey = SIGNATURE
    sig.subgraphIndex = 0
    sig.inputs = maps(list(sg.inputs))
    sig.outputs = maps(list(sg.outputs))
    model.signatureDefs = [sig]


def fold_float16(content: bytes) -> bytes:
    """``content`` with its float16/sparse weight chains folded into float32 constants.

    Outputs are bit-identical to the original's reference kernels (the folded
    values are what those kernels compute), so calibration sees the model the
    unit runs.
    """
    model = fb.read_model_from_bytearray(bytearray(content))
    if len(model.subgraphs) != 1:
        raise FoldError(f"expected one subgraph, found {len(model.subgraphs)}")
    sg = model.subgraphs[0]
    ops = _foldable_ops(model)
    outputs = [i for k in ops for i in sg.operators[k].outputs]
    values = _evaluate(content, outputs)
    for i in outputs:
        tensor = sg.tensors[i]
        value = values[i].astype(np.float32, copy=False)
        buf = schema.BufferT()
        buf.data = np.frombuffer(np.ascontiguousarray(value).tobytes(), np.uint8)
        model.buffers.append(buf)
        tensor.buffer = len(model.buffers) - 1
        tensor.type = schema.TensorType.FLOAT32
        tensor.sparsity = None
        tensor.quantization = None
    dropped = set(ops)
    sg.operators = [op for k, op in enumerate(sg.operators) if k not in dropped]
    _prune(model)
    _add_signature(model)
    return bytes(fb.convert_object_to_bytearray(model))
