#!/usr/bin/env bash
# envtest.sh prepares the binaries controller-runtime's envtest needs
# (kube-apiserver, etcd, kubectl) without setup-envtest, which downloads from
# places this project's machines cannot reach:
#   - etcd comes from Debian's etcd-server package;
#   - kube-apiserver is built from the Go module proxy (k8s.io/kubernetes plus
#     its staging modules), once per version, into a cache outside the clone so a
#     fresh clone on the same machine finds it again;
#   - kubectl is taken from the machine, or built like kube-apiserver.
# It prints the directory to use as KUBEBUILDER_ASSETS. Safe to run twice.
set -euo pipefail

K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"
CACHE_ROOT="${CXLOOP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cxloop}"
ASSETS="${CACHE_ROOT}/envtest/k8s-${K8S_VERSION}"
STAGING_VERSION="v0.${K8S_VERSION#*.}"

log() { echo "envtest: $*" >&2; }

mkdir -p "${ASSETS}"

# --- etcd -------------------------------------------------------------------
if [[ ! -x "${ASSETS}/etcd" ]]; then
  etcd_bin="$(command -v etcd || true)"
  if [[ -z "${etcd_bin}" ]]; then
    log "installing Debian's etcd-server"
    if [[ "$(id -u)" != 0 ]]; then SUDO=sudo; else SUDO=; fi
    ${SUDO} apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive ${SUDO} apt-get install -y -qq --no-install-recommends etcd-server >&2
    # Debian starts the service on install; envtest runs its own etcd.
    (${SUDO} systemctl disable --now etcd >/dev/null 2>&1 || ${SUDO} service etcd stop >/dev/null 2>&1 || true)
    etcd_bin="$(command -v etcd)"
  fi
  ln -sf "${etcd_bin}" "${ASSETS}/etcd"
fi

# --- kube-apiserver (and kubectl if the machine has none) -------------------
build_k8s() {
  local what=("$@")
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "${work}"' RETURN
  log "building ${what[*]} ${K8S_VERSION} from the Go module proxy (about 9 minutes on 2 cores)"
  (
    cd "${work}"
    go mod init cxloop.dev/envtest-build >/dev/null 2>&1
    # k8s.io/kubernetes replaces its staging modules with local paths; a
    # module that requires it must replace each with its published version.
    gomod="$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
    go mod edit -require="k8s.io/kubernetes@v${K8S_VERSION}"
    grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging/' "${gomod}" | awk '{print $1}' | sort -u | while read -r m; do
      go mod edit -replace="${m}=${m}@${STAGING_VERSION}"
    done
    for target in "${what[@]}"; do
      echo "package tools; import _ \"k8s.io/kubernetes/cmd/${target}\"" > "tools_${target//-/_}.go"
    done
    sed -i 's/^package tools; /package tools\n/' tools_*.go
    GOFLAGS=-mod=mod go mod tidy >&2
    for target in "${what[@]}"; do
      CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${ASSETS}/${target}.tmp" "k8s.io/kubernetes/cmd/${target}" >&2
      mv "${ASSETS}/${target}.tmp" "${ASSETS}/${target}"
    done
  )
}

if [[ ! -x "${ASSETS}/kube-apiserver" ]]; then
  build_k8s kube-apiserver
fi

if [[ ! -x "${ASSETS}/kubectl" ]]; then
  if command -v kubectl >/dev/null 2>&1; then
    ln -sf "$(command -v kubectl)" "${ASSETS}/kubectl"
  else
    build_k8s kubectl
  fi
fi

echo "${ASSETS}"
