import pytest

from tests import servers


@pytest.fixture
def cairn(tmp_path):
    server = servers.cairn(tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cairn_factory(tmp_path):
    """Starts cairn members with extra flags; stops them all at the end."""
    started = []

    def start(*extra, name="cairn"):
        server = servers.cairn(tmp_path, *extra, name=name).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
