"""Our bearer tokens as the MCP SDK's `TokenVerifier`, and back from its `AccessToken` to a Caller.

The SDK's own HTTP auth does the rest: its middleware reads `Authorization: Bearer ...`,
asks this verifier, answers 401 (with `WWW-Authenticate`) on the MCP endpoint when the token
is missing or unknown, and keeps the verified token in a context variable for the tool call.
"""

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings

from nba_mcp_deploy.access.permissions import ROLE_NAMES, Caller, Role
from nba_mcp_deploy.access.tokens import TokenFile

ROLE_CLAIM = "nba_mcp_role"


class RoleTokenVerifier:
    """Verifies tokens against the token file; the token's name becomes the client id."""

    def __init__(self, tokens: TokenFile) -> None:
        self._tokens = tokens

    async def verify_token(self, token: str) -> AccessToken | None:
        caller = self._tokens.verify(token)
        if caller is None:
            return None
        return AccessToken(
            token=token,
            client_id=caller.name,
            scopes=sorted(p.value for p in caller.role.permissions),
            claims={ROLE_CLAIM: caller.role.value},
        )


def caller_from_access_token(token: AccessToken) -> Caller:
    """The caller behind a verified token (a token without our role claim gets the viewer role)."""
    role = (token.claims or {}).get(ROLE_CLAIM)
    return Caller(token.client_id, Role(role) if role in ROLE_NAMES else Role.VIEWER)


def auth_settings(base_url: str) -> AuthSettings:
    """Settings that turn on the SDK's bearer auth for a server that is its own token issuer."""
    return AuthSettings(issuer_url=base_url, resource_server_url=None)  # type: ignore[arg-type]
