"""Apps made in one process: an app let go is freed whole (nothing of FastAPI's or of this process keeps its database
engine alive), and every app serves the same prepared routes rather than preparing its own."""

import gc
import weakref

from fastapi.testclient import TestClient

from api.config import Settings
from api.main import API, create_app


def test_an_app_let_go_frees_its_engine(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
    engine = weakref.ref(app.state.engine)
    del app, client
    gc.collect()
    assert engine() is None


def test_apps_share_the_prepared_routes(settings: Settings) -> None:
    """FastAPI prepares an included router's routes (a validator per parameter and model) when a request is first
    matched against them: tens of milliseconds for the whole API, which every app made anew paid again."""
    shared = len(API.routes)
    first, second = create_app(settings), create_app(settings)
    assert len(API.routes) == shared  # each app's own routes (the console's) stay its own
    for app in (first, second):
        with TestClient(app) as client:
            assert client.get("/webhooks").status_code == 401  # matched against nearly every router
    included = [route for route in first.router.routes if hasattr(route, "effective_candidates")]
    assert len(included) > 10
    for route in included:
        assert any(route is other for other in second.router.routes)
        assert route.effective_candidates() is route.effective_candidates()  # prepared once, kept
    for app in (first, second):
        app.state.engine.dispose()
