"""An app let go is freed whole: nothing of FastAPI's or of this process keeps its database engine alive."""

import gc
import weakref

from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app


def test_an_app_let_go_frees_its_engine(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
    engine = weakref.ref(app.state.engine)
    del app, client
    gc.collect()
    assert engine() is None
