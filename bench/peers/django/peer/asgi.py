"""The ASGI application daphne serves: django-sio's consumer on /socket.io/, for HTTP long-polling
and WebSocket alike.

    daphne -b 127.0.0.1 -p 4004 peer.asgi:application    # from bench/peers/django
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer.settings")
django.setup()  # django-sio reads its settings when it is imported

from channels.routing import URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from peer.consumer import Bench  # noqa: E402

application = URLRouter([path("socket.io/", Bench.as_asgi())])
