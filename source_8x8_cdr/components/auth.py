"""The 8x8 Work Analytics login (see `WorkAnalyticsAuthenticator`)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional, Union

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.streams.call_rate import APIBudget
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_8x8_cdr.components.interpolation import interpolate
from source_8x8_cdr.components.network_errors import CHECKING_CONNECTION, NetworkRetries, host_of
from source_8x8_cdr.components.pacing import login_session
from source_8x8_cdr.components.page_body import NOT_JSON, parsed_body
from source_8x8_cdr.secrets import register_secret

logger = logging.getLogger("airbyte")


@dataclass
class WorkAnalyticsAuthenticator(DeclarativeAuthenticator):
    """Logs in to 8x8 Work Analytics and signs every data call with `Authorization: Bearer` and `8x8-apikey`.

    Why not `SessionTokenAuthenticator`: it sends one header, while Work Analytics wants two (the bearer
    token *and* the API key); its lifetime is a fixed `expiration_duration`, while ours follows the
    `expires_in` of each login answer; and its login errors are generic, while a user needs to know whether
    the API key (`SHA001`) or the username/password (`invalid_grant`) is wrong.

    When it logs in: before the first call; again `refresh_margin_seconds` before the token expires (there
    is no refresh token); and once more when a data call answers 401 (the manifest maps 401 to
    `REFRESH_TOKEN_THEN_RETRY`, and the CDK calls `refresh_and_set_access_token` at most once per request,
    so a second 401 in a row fails as an auth error instead of looping). Logins are serialised by a lock, so
    concurrent slices share one token. Every token is registered as a secret before it is used. The login
    is not a manifest requester, so it retries by itself: network errors, 429/5xx and cut-off answers are
    tried `max_retries` more times with exponential backoff (or `Retry-After`); refused credentials never.
    Logins share the pace of Work Analytics' data requests and their `requests_per_minute` budget
    (`api_budget`, given by the CDK), so a 429 is retried there first, for up to an hour (`pacing.py`).
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    base_url: Union[InterpolatedString, str] = ""
    api_key: Union[InterpolatedString, str] = ""
    username: Union[InterpolatedString, str] = ""
    password: Union[InterpolatedString, str] = ""
    refresh_margin_seconds: int = 120
    timeout_seconds: float = 30.0
    max_retries: Union[int, str] = 5
    backoff_seconds: Union[float, str] = 2
    api_budget: Optional[APIBudget] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        def resolve(value: Union[InterpolatedString, str]) -> str:
            return str(interpolate(value, self.config, parameters) or "")

        self._base_url = resolve(self.base_url).rstrip("/")
        self._api_key = resolve(self.api_key)
        self._username = resolve(self.username)
        self._password = resolve(self.password)
        self._attempts = int(interpolate(self.max_retries, self.config, parameters) or 0) + 1
        self._backoff = float(interpolate(self.backoff_seconds, self.config, parameters) or 0)
        self._lock = threading.Lock()
        self._token: Optional[str] = None
        self._refresh_at = 0.0
        self._session = login_session(self._base_url, "Work Analytics", self.api_budget)
        self._network = NetworkRetries("the Work Analytics login", "work_analytics.base_url", self._attempts - 1, self._backoff,
                                       checking=bool(self.config.get(CHECKING_CONNECTION)))

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return f"Bearer {self._current_token()}"

    def get_auth_header(self) -> Mapping[str, Any]:
        return {"Authorization": self.token, "8x8-apikey": self._api_key}

    def refresh_and_set_access_token(self) -> None:
        """Log in again now: the CDK calls this once when a data call answers 401."""
        with self._lock:
            self._login()

    def _current_token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._refresh_at:
                self._login()
            return self._token  # type: ignore[return-value]  # _login sets it or raises

    def _login(self) -> None:
        """One login, tried again on a network error, a 429/5xx or a cut-off answer (not on refused credentials)."""
        url = f"{self._base_url}/v1/oauth/token"
        attempts = self._attempts
        self._network.raise_if_unreachable()
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            try:
                response = self._session.post(
                    url,
                    headers={"8x8-apikey": self._api_key},
                    data={"username": self._username, "password": self._password},
                    timeout=self.timeout_seconds,
                )
            except requests.RequestException as error:  # logged, or raised as one sentence after the last attempt
                time.sleep(self._network.pause_after(error, url, attempt, started, self.timeout_seconds))
                continue
            else:
                body = parsed_body(response)
                if response.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
                    self._keep_token(body)
                    return
                overloaded = response.status_code == 429 or response.status_code >= 500
                failure = AirbyteTracedException(
                    message=_login_failure_message(response.status_code, body, url),
                    internal_message=f"login answered HTTP {response.status_code}",
                    failure_type=FailureType.transient_error if overloaded else FailureType.config_error,
                )
                if not overloaded and response.status_code != 200:  # refused: trying again cannot help
                    raise failure
                retry_after = _as_seconds(response.headers.get("Retry-After"), default=0) or None
            if attempt < attempts:
                pause = retry_after or self._backoff * 2 ** (attempt - 1)
                logger.warning(f"Work Analytics login failed ({failure.internal_message}); trying again in {pause:.1f} s.")
                time.sleep(pause)
        raise failure

    def _keep_token(self, body: Mapping[str, Any]) -> None:
        token = str(body["access_token"])
        register_secret(token)
        lifetime = _as_seconds(body.get("expires_in"), default=1800)
        self._token = token
        self._refresh_at = time.monotonic() + max(lifetime - self.refresh_margin_seconds, lifetime / 2)


def _as_seconds(value: Any, default: float) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


def _login_failure_message(status: int, body: Any, url: str) -> str:
    if isinstance(body, dict) and body.get("code") == "SHA001":
        return "Work Analytics rejected the API key (8x8 code SHA001). Check work_analytics.api_key."
    if isinstance(body, dict) and body.get("error") == "invalid_grant":
        return (
            "Work Analytics rejected the username or password (invalid_grant). Check work_analytics.username and "
            "work_analytics.password, and that this user has opened Work Analytics in a browser once."
        )
    if body is NOT_JSON:
        return (
            f"The Work Analytics login at {host_of(url)} answered HTTP {status} with a body that is not JSON. "
            "Check work_analytics.base_url (default https://api.8x8.com/analytics/work)."
        )
    return f"The Work Analytics login at {host_of(url)} failed with HTTP {status}. Check the work_analytics settings."
