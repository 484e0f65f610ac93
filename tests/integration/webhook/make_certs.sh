#!/usr/bin/env bash
# Makes the certificates the webhook TLS tests use, in directory $1 (P-256 keys, valid
# for two days): a CA and a server certificate it signed for localhost and 127.0.0.1;
# a server certificate for another name; an unrelated CA; and a client CA with a
# client certificate for mutual TLS.
set -euo pipefail
cd "$1"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=jcorr test $1" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() {  # leaf NAME CA SUBJECT EXTENSIONS
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "$3" 2>/dev/null
  printf '%b' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days 2 \
    -extfile "$1.ext" 2>/dev/null
}
ca ca
ca wrong-ca
ca client-ca
leaf server ca "/CN=localhost" \
  "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
leaf other-name ca "/CN=other.example" \
  "subjectAltName=DNS:other.example\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
leaf client client-ca "/CN=jcorr-client" "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
