# Sourced by scripts/test.sh: a real CVAT for the live suite (tests/live).
# With CVAT_LIVE_URL set, that server is used as it is. Otherwise ../shared/cvat-server is
# brought up (and stopped again on exit if this script started it); if it cannot be, the
# test command fails here, with up.sh's reason above.

live_server_up() {
    if [ -n "${CVAT_LIVE_URL:-}" ]; then
        echo "live suite: using $CVAT_LIVE_URL (CVAT_LIVE_URL)"
        return
    fi
    local kit=../shared/cvat-server
    if [ ! -f "$kit/up.sh" ]; then
        echo "test.sh: $kit/up.sh is missing and CVAT_LIVE_URL is not set: no real CVAT for the live suite" >&2
        exit 1
    fi
    local url="http://127.0.0.1:${CVAT_SERVER_PORT:-8080}"
    if curl -fsS -o /dev/null "$url/api/server/health/?format=json" 2>/dev/null; then
        echo "live suite: a CVAT is already up at $url; using it"
    else
        if ! bash "$kit/up.sh"; then
            echo "test.sh: ../shared/cvat-server/up.sh failed (its message is above): the live suite cannot run" >&2
            exit 1
        fi
        trap 'bash ../shared/cvat-server/down.sh' EXIT
    fi
    export CVAT_LIVE_URL="$url" CVAT_LIVE_USER=admin CVAT_LIVE_PASSWORD='Admin12345!'
    # where the server reads `share` resources from (server_files)
    export CVAT_LIVE_SHARE_DIR="${CVAT_SERVER_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/cvat-server-2.24}/share"
}
