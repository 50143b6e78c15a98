"""Dependencies shared by every router: the calling user and what their role allows."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from api.audit.chain import act_as
from api.auth import service as auth_service
from api.auth.security import read_access_token
from api.config import Settings
from api.db import SessionDep
from api.models.users import Role, User
from api.problems import NotAuthenticated, RoleNotAllowed
from api.rules.field import FieldRules

_bearer = HTTPBearer(auto_error=False, description="Access token from `POST /auth/login`.")


def current_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise NotAuthenticated("Send `Authorization: Bearer <access token>`; get one from POST /auth/login.")
    access = read_access_token(request.app.state.jwt_secret, request.app.state.settings, credentials.credentials)
    if access is None:
        raise NotAuthenticated("The access token is invalid or has expired; refresh it or log in again.")
    found = session.execute(
        select(User, auth_service.login_live(access.user_id, access.login_id)).where(User.id == access.user_id)
    ).one_or_none()
    if found is None or not found[0].active:
        raise NotAuthenticated("This account is deactivated or no longer exists.")
    user, live = found
    if not live:
        raise NotAuthenticated(
            "This login was ended (logout, a password change or a leaked token), or is not this account's; log in"
            " again."
        )
    act_as(session, user.id)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    allowed = ", ".join(role.value for role in roles)

    def dependency(user: CurrentUser) -> User:
        if user.role not in roles:
            raise RoleNotAllowed(f"Only {allowed} may do this; you are {user.role.value}.", role=user.role)
        return user

    return dependency


def field_rules(request: Request) -> FieldRules:
    """The deployment's field rules, read from the settings once per request."""
    settings: Settings = request.app.state.settings
    return settings.field_rules()


FieldRulesDep = Annotated[FieldRules, Depends(field_rules)]


Agent = Annotated[User, Depends(require_roles(Role.AGENT))]
Manager = Annotated[User, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]
Admin = Annotated[User, Depends(require_roles(Role.ADMIN))]
CaseWorker = Annotated[User, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN, Role.PHONE_COLLECTOR))]
