#!/usr/bin/env bash
# test-deps.sh installs from Debian what cxloop's tests and demo run for real
# when the machine lacks it, so that no test has to skip:
#   etcd        etcd-server  the API server's store (envtest; hack/envtest.sh)
#   chromium    chromium     the status page's browser test
#   node        nodejs, npm  Mermaid's parser over the dashboard's diagrams
#   prometheus  prometheus   prometheus and promtool: the measures' tests, the
#                            alert rules' check, the demo's verified outcome
# Usage: hack/test-deps.sh etcd chromium node prometheus   (all by default)
# It asks apt only for what is missing (sudo when not root), so a second run
# returns at once. Safe to run twice.
set -euo pipefail

wanted=("$@")
((${#wanted[@]})) || wanted=(etcd chromium node prometheus)

need=()
for w in "${wanted[@]}"; do
  case "${w}" in
    etcd) command -v etcd >/dev/null 2>&1 || need+=(etcd-server) ;;
    chromium)
      [[ -n "${CXLOOP_CHROMIUM:-}" ]] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
        command -v google-chrome >/dev/null 2>&1 || command -v google-chrome-stable >/dev/null 2>&1 || need+=(chromium) ;;
    node)
      command -v node >/dev/null 2>&1 || need+=(nodejs)
      command -v npm >/dev/null 2>&1 || need+=(npm) ;;
    prometheus) { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; } || need+=(prometheus) ;;
    *) echo "test-deps: unknown dependency ${w} (etcd, chromium, node, prometheus)" >&2; exit 2 ;;
  esac
done
((${#need[@]})) || exit 0

echo "test-deps: installing Debian's ${need[*]}" >&2
if [[ "$(id -u)" == 0 ]]; then SUDO=; else SUDO=sudo; fi
${SUDO} apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive ${SUDO} apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
# Debian starts etcd and Prometheus as services on install; the tests and the
# demo run their own.
for pkg in "${need[@]}"; do
  case "${pkg}" in etcd-server) svc=etcd ;; prometheus) svc=prometheus ;; *) continue ;; esac
  (${SUDO} systemctl disable --now "${svc}" >/dev/null 2>&1 || ${SUDO} service "${svc}" stop >/dev/null 2>&1 || true)
done
