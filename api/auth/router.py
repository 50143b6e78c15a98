from fastapi import APIRouter, Request, Response, status

from api.auth import service
from api.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from api.db import ReadSessionDep, SessionDep
from api.problems import problem_responses

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", responses=problem_responses(service.LoginFailed, service.LoginThrottled))
def login(body: LoginRequest, request: Request, reads: ReadSessionDep, session: SessionDep) -> TokenPair:
    """Log in with username and password; returns an access token and a refresh token. Repeated failures make the
    account or the address wait (429 with Retry-After)."""
    state = request.app.state
    credentials = service.Credentials(body.username, body.password.get_secret_value())
    address = request.client.host if request.client else "unknown"
    return service.login(reads, session, state.settings, state.jwt_secret, credentials, address)


@router.post("/refresh", responses=problem_responses(service.RefreshTokenInvalid))
def refresh(body: RefreshRequest, request: Request, session: SessionDep) -> TokenPair:
    """Trade a refresh token for a new token pair (the old refresh token stops working)."""
    state = request.app.state
    return service.refresh(session, state.settings, state.jwt_secret, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(body: RefreshRequest, session: SessionDep) -> Response:
    """End the session a refresh token belongs to (every token of that login)."""
    service.logout(session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
