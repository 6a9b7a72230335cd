# Full-int8 models built from the shipped float16 ones (vision/models/quantize.py).
# ai-edge-quantizer is small (no TensorFlow) and quantizing takes ~15 s, so the
# int8 files are built here rather than committed; manifest_int8.json records
# their sha256 and the measured parity, and `auto` precision uses int8 only for
# files with that sha256.

.PHONY: models-int8
models: models-int8

# ai-edge-quantizer comes with the development lock (requirements/dev.txt, hashed);
# a unit's install never has it.
# Up-to-date files (sha256 as recorded) are kept, so re-runs take a second.
models-int8: $(STAMPS)/venv
	$(PY) -m vision.models.quantize
