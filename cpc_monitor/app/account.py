"""The sidebar's account block: who is using the dashboard and with which role, the Sign in /
Sign out buttons when sign-in is configured, and local mode's word on whether this browser
may change data. The decision itself is access.current(); this module only shows it."""
from __future__ import annotations

import streamlit as st

from cpc_monitor.app import access
from cpc_monitor.present.formatting import as_markdown_text

SIGN_IN_PROBLEM = "_cpc_sign_in_problem"  # session key: why the last Sign in click could not start
ROLE_WORDS = {"viewer": "viewer", "editor": "editor", "admin": "administrator"}
def sidebar_account() -> None:
    """Draw the account block in the sidebar (called by dashboard.py on every run)."""
    decision = access.current()
    with st.sidebar:
        if decision.roles_problem:
            st.error("The roles file cannot be used, so everyone is a viewer until it is fixed:\n\n"
                     + "\n\n".join(as_markdown_text(line) for line in decision.roles_problem.splitlines()),
                     icon=":material/error:")
        if decision.signed_in_mode:
            _signed_in_block(decision)
        elif decision.allowed:
            st.caption("Local mode (no sign-in set up): this browser may change data, as administrator.")
        else:
            st.caption(f"Local mode, read-only: {as_markdown_text(decision.reason)}.")


def _signed_in_block(decision: access.Access) -> None:
    problem = st.session_state.pop(SIGN_IN_PROBLEM, None)
    if problem:
        st.error(problem, icon=":material/error:")
    if not decision.user:
        st.caption("Not signed in: you see the dashboard as a viewer, with small counts hidden.")
        st.button("Sign in", key="sign_in", on_click=_sign_in, icon=":material/login:")
        return
    st.caption(f"Signed in as {as_markdown_text(decision.user)} · {ROLE_WORDS.get(decision.role, decision.role)}")
    st.button("Sign out", key="sign_out", on_click=st.logout, icon=":material/logout:")


def _sign_in() -> None:
    """Start st.login with the configured provider; a broken [auth] section is a message, not a traceback."""
    try:
        st.login(access.sign_in_provider())
    except Exception as exc:  # StreamlitAuthError and friends: the secrets file is incomplete
        st.session_state[SIGN_IN_PROBLEM] = (
            f"Sign-in is not set up correctly: {exc} Check the [auth] section of .streamlit/secrets.toml "
            "(docs/deployment.md lists its keys).")
