"""Settings of the django-sio benchmark peer: no database, no views, Channels' in-memory layer."""

SECRET_KEY = "sio-bench"  # a loopback-only benchmark server: nothing to keep secret

# django-sio sends a room's broadcast through the channel layer's groups.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
