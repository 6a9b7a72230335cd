# Live-microphone back-end (hal/mic/sounddevice_mic.py) and its tests:
# PortAudio for python-sounddevice; PulseAudio, its tools and the ALSA pulse
# plugin for the private test server in tests/helpers/unit/pulse.py.
APT_PACKAGES += libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins
