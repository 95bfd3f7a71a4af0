#!/usr/bin/env bash
# Installs what the go-plugin tests need to build their Go fixtures (test/fixtures/go): Debian's Go,
# go-plugin 1.0.1 and its gRPC/protobuf packages, and protoc with the Go generators. Idempotent: does
# nothing when every package is already installed. Needs root (or sudo) and apt.
set -euo pipefail
packages=(
  golang-go
  golang-github-hashicorp-go-plugin-dev
  golang-google-grpc-dev
  golang-google-protobuf-dev
  golang-github-golang-protobuf-1-5-dev
  protoc-gen-go
  protoc-gen-go-grpc
  protobuf-compiler
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]}" >&2
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
