#!/usr/bin/env bash
# Makes a test CA, a second unrelated CA, and a server key and certificate
# signed by the first for localhost and 127.0.0.1 (ECDSA P-256, valid 30
# days), with the openssl command line:
#   bash tests/support/make_test_certs.sh <pki dir> <werkd config dir>
# <pki dir>: ca.pem (trust it: SSL_CERT_FILE, NODE_EXTRA_CA_CERTS), other.pem;
# <config dir>: private.key.pem and public.cert.pem, where werkd looks.
set -euo pipefail
pki="$1"
config="$2"
mkdir -p "$pki" "$config"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 30 \
  -subj "/CN=werk test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -x509 "${ec[@]}" -keyout "$pki/other.key" -out "$pki/other.pem" -days 30 \
  -subj "/CN=werk test unrelated CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
openssl req "${ec[@]}" -keyout "$config/private.key.pem" -out "$pki/server.csr" \
  -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
  > "$pki/server.ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
  -CAcreateserial -days 30 -extfile "$pki/server.ext" -out "$config/public.cert.pem" 2>/dev/null
