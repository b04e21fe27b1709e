#!/usr/bin/env bash
# Regenerates the test PKI of hsmtls in this directory (testdata/pki).
#
# The generated files are committed; run this only to change or renew them:
#     bash testdata/pki/make.sh
# Needs the openssl CLI (3.x). Keys are random, file names are fixed.
#
# Every certificate is valid from 2025-01-01 to 2124-12-31 (set with
# `openssl ca -startdate/-enddate`), except expired/server.pem
# (2000-01-01 .. 2001-01-01).
#
# Layout per key kind (<kind>/):
#   ca.pem ca.der ca.key           root CA (self-signed)
#   inter.pem inter.der inter.key  intermediate CA, signed by the root
#   server.pem                     server leaf only, signed by the intermediate
#   server.chain.pem               server leaf + intermediate
#   server.der                     server leaf, DER
#   server.key / server.key.der    server key, PKCS#8 PEM / DER
#   server.sec1.pem                server key, SEC1 PEM (EC kinds; tlslite-ng)
#   client.pem client.chain.pem client.der client.key client.key.der
#   client.sec1.pem                (EC kinds)
# wrongca/  the same set for an unrelated ecdsa-p256 root (negative tests)
# expired/  ecdsa-p256 server cert (signed by ecdsa-p256/inter) that expired
#           in 2001, plus its key and the ecdsa-p256 ca.pem for convenience.
set -euo pipefail

cd "$(dirname "$0")"
OUT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

START=20250101000000Z
END=21241231235959Z

# kind -> "keyspec digest"
declare -A SPEC=(
  [ecdsa-p256]="ec:P-256 sha256"
  [ecdsa-p384]="ec:P-384 sha384"
  [rsa2048]="rsa:2048 sha256"
  [brainpoolP256r1]="ec:brainpoolP256r1 sha256"
  [brainpoolP384r1]="ec:brainpoolP384r1 sha384"
  [brainpoolP512r1]="ec:brainpoolP512r1 sha512"
  [wrongca]="ec:P-256 sha256"
)
KINDS=(ecdsa-p256 ecdsa-p384 rsa2048 brainpoolP256r1 brainpoolP384r1 brainpoolP512r1 wrongca)

# Extensions and a minimal `openssl ca` configuration.
cat > "$WORK/ext.cnf" <<'CNF'
[ca]
default_ca = testca

[testca]
dir             = .
database        = $dir/index.txt
serial          = $dir/serial
new_certs_dir   = $dir/newcerts
unique_subject  = no
policy          = policy_any
email_in_dn     = no
copy_extensions = none

[policy_any]
organizationName    = optional
commonName          = supplied

[root_ext]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[inter_ext]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[server_ext]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, DNS:testserver.hsmtls.test, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[server_ext_rsa]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, DNS:testserver.hsmtls.test, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[client_ext]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectAltName         = DNS:localhost, DNS:testserver.hsmtls.test, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[client_ext_rsa]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = clientAuth
subjectAltName         = DNS:localhost, DNS:testserver.hsmtls.test, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
CNF

# genkey KEYSPEC OUT: PKCS#8 PEM private key
genkey() {
  case "$1" in
    ec:*) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${1#ec:}" \
            -pkeyopt ec_param_enc:named_curve -out "$2" 2>/dev/null ;;
    rsa:*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${1#rsa:}" \
            -out "$2" 2>/dev/null ;;
    *) echo "bad keyspec $1" >&2; exit 1 ;;
  esac
}

# sign CADIR CAKEY CACERT(or "self") CSR DIGEST EXT SUBJ OUT [START END]
sign() {
  local cadir=$1 cakey=$2 cacert=$3 csr=$4 md=$5 ext=$6 subj=$7 out=$8
  local sd=${9:-$START} ed=${10:-$END}
  local args=(-batch -notext -config "$WORK/ext.cnf" -md "$md" -keyfile "$cakey"
              -extfile "$WORK/ext.cnf" -extensions "$ext" -subj "$subj"
              -startdate "$sd" -enddate "$ed" -in "$csr" -out "$out")
  if [ "$cacert" = self ]; then args+=(-selfsign); else args+=(-cert "$cacert"); fi
  (cd "$cadir" && openssl ca "${args[@]}" 2>"$WORK/ca.err") || { cat "$WORK/ca.err" >&2; exit 1; }
}

newcadir() {
  mkdir -p "$1/newcerts"; : > "$1/index.txt"; echo "$2" > "$1/serial"
}

serial_base=1000
for kind in "${KINDS[@]}"; do
  read -r keyspec md <<<"${SPEC[$kind]}"
  d=$OUT/$kind; w=$WORK/$kind
  rm -rf "$d"; mkdir -p "$d" "$w"
  serial_base=$((serial_base + 1000))
  newcadir "$w/root" "$(printf '%06X' $((serial_base + 1)))"
  newcadir "$w/inter" "$(printf '%06X' $((serial_base + 100)))"
  label="hsmtls test $kind"
  sfx=""; case "$keyspec" in rsa:*) sfx="_rsa" ;; esac

  # root
  genkey "$keyspec" "$d/ca.key"
  openssl req -new -key "$d/ca.key" -subj "/O=hsmtls test/CN=$label root CA" -out "$w/ca.csr"
  sign "$w/root" "$d/ca.key" self "$w/ca.csr" "$md" root_ext "/O=hsmtls test/CN=$label root CA" "$d/ca.pem"
  # intermediate
  genkey "$keyspec" "$d/inter.key"
  openssl req -new -key "$d/inter.key" -subj "/CN=x" -out "$w/inter.csr"
  sign "$w/root" "$d/ca.key" "$d/ca.pem" "$w/inter.csr" "$md" inter_ext "/O=hsmtls test/CN=$label intermediate CA" "$d/inter.pem"
  # server and client leaves
  for role in server client; do
    genkey "$keyspec" "$d/$role.key"
    openssl req -new -key "$d/$role.key" -subj "/CN=x" -out "$w/$role.csr"
    if [ $role = server ]; then cn=testserver.hsmtls.test; else cn="$label client"; fi
    sign "$w/inter" "$d/inter.key" "$d/inter.pem" "$w/$role.csr" "$md" "${role}_ext$sfx" "/O=hsmtls test/CN=$cn" "$d/$role.pem"
    cat "$d/$role.pem" "$d/inter.pem" > "$d/$role.chain.pem"
    openssl x509 -in "$d/$role.pem" -outform DER -out "$d/$role.der"
    openssl pkey -in "$d/$role.key" -outform DER -out "$d/$role.key.der"
    case "$keyspec" in ec:*) openssl ec -in "$d/$role.key" -out "$d/$role.sec1.pem" 2>/dev/null ;; esac
  done
  for c in ca inter; do openssl x509 -in "$d/$c.pem" -outform DER -out "$d/$c.der"; done

  for role in server client; do
    openssl verify -x509_strict -purpose "ssl$role" -CAfile "$d/ca.pem" -untrusted "$d/inter.pem" "$d/$role.pem" >/dev/null \
      || { echo "verify failed: $kind/$role" >&2; exit 1; }
  done
  echo "ok  $kind"
done

# expired/: a server cert under ecdsa-p256/inter, valid 2000-01-01 .. 2001-01-01
d=$OUT/expired; w=$WORK/expired
rm -rf "$d"; mkdir -p "$d" "$w"
newcadir "$w/inter" "00E001"
genkey ec:P-256 "$d/server.key"
openssl req -new -key "$d/server.key" -subj "/CN=x" -out "$w/server.csr"
sign "$w/inter" "$OUT/ecdsa-p256/inter.key" "$OUT/ecdsa-p256/inter.pem" "$w/server.csr" sha256 server_ext \
  "/O=hsmtls test/CN=testserver.hsmtls.test" "$d/server.pem" 20000101000000Z 20010101000000Z
cat "$d/server.pem" "$OUT/ecdsa-p256/inter.pem" > "$d/server.chain.pem"
openssl x509 -in "$d/server.pem" -outform DER -out "$d/server.der"
openssl pkey -in "$d/server.key" -outform DER -out "$d/server.key.der"
openssl ec -in "$d/server.key" -out "$d/server.sec1.pem" 2>/dev/null
cp "$OUT/ecdsa-p256/ca.pem" "$d/ca.pem"
if openssl verify -CAfile "$d/ca.pem" -untrusted "$OUT/ecdsa-p256/inter.pem" "$d/server.pem" >"$WORK/exp.out" 2>&1; then
  echo "expired/server.pem unexpectedly verifies" >&2; exit 1
fi
grep -q "certificate has expired" "$WORK/exp.out" || { cat "$WORK/exp.out" >&2; exit 1; }
# ...and is otherwise a good chain
openssl verify -no_check_time -CAfile "$d/ca.pem" -untrusted "$OUT/ecdsa-p256/inter.pem" "$d/server.pem" >/dev/null
echo "ok  expired"

# wrongca must not verify the ecdsa-p256 server
if openssl verify -CAfile "$OUT/wrongca/ca.pem" -untrusted "$OUT/ecdsa-p256/inter.pem" "$OUT/ecdsa-p256/server.pem" >/dev/null 2>&1; then
  echo "wrongca unexpectedly verifies ecdsa-p256/server.pem" >&2; exit 1
fi
echo "ok  wrongca is unrelated"
