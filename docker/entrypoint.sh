#!/bin/sh
# Entrypoint of the lfo-ray images: checks the Ray token setup, then runs the command.
# Token auth stays on (RAY_AUTH_MODE=token); the token is never in the image: it comes from
# RAY_AUTH_TOKEN_PATH (a mounted secret, as in compose.yaml), RAY_AUTH_TOKEN, or ~/.ray/auth_token.
set -eu

if [ "${RAY_AUTH_MODE:-token}" = "token" ] && [ -n "${RAY_AUTH_TOKEN_PATH:-}" ] \
    && [ ! -r "${RAY_AUTH_TOKEN_PATH}" ]; then
    echo "lfo-entrypoint: RAY_AUTH_TOKEN_PATH=${RAY_AUTH_TOKEN_PATH} is not a readable file;" \
         "create the token first (see docker/README.md)" >&2
    exit 2
fi

if [ "$#" -eq 0 ]; then
    set -- lfo list
fi
exec "$@"
