"""OAK cameras through depthai v3: config, pipeline, stream, camera, doctor rows."""
