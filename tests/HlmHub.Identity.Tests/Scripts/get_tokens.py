"""Gets access tokens from the hub's embedded authorization server the way a partner's integrator would,
with Python's standard urllib and PyJWT (Debian: python3-jwt, python3-cryptography), then checks each
token's signature against the published JWKS.

Usage: get_tokens.py ISSUER SECRET_CLIENT_ID SECRET KEY_CLIENT_ID PRIVATE_KEY_PEM_FILE
Prints one JSON object: for each client authentication method, the verified token, its header and claims.
"""
import base64
import json
import sys
import time
import urllib.parse
import urllib.request
import uuid

import jwt

issuer, secret_client, secret, key_client, pem_file = sys.argv[1:6]


def get_json(url):
    with urllib.request.urlopen(url, timeout=20) as response:
        return json.load(response)


metadata = get_json(urllib.parse.urljoin(issuer, ".well-known/openid-configuration"))
token_endpoint = metadata["token_endpoint"]
jwks = jwt.PyJWKClient(metadata["jwks_uri"])
with open(pem_file, "rb") as handle:
    private_key = handle.read()


def request_token(form, headers=None):
    data = urllib.parse.urlencode(form).encode("ascii")
    request = urllib.request.Request(token_endpoint, data=data, headers=headers or {}, method="POST")
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.load(response)["access_token"]


def assertion(audience, typ):
    now = int(time.time())
    claims = {"iss": key_client, "sub": key_client, "aud": audience, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())}
    headers = {"typ": typ} if typ else None
    return jwt.encode(claims, private_key, algorithm="ES256", headers=headers)


def verify(token):
    header = jwt.get_unverified_header(token)
    key = jwks.get_signing_key_from_jwt(token).key
    claims = jwt.decode(token, key, algorithms=["ES256"], audience="hlmhub", issuer=metadata["issuer"])
    return {"header": header, "claims": claims, "token": token}


basic = base64.b64encode(
    (urllib.parse.quote(secret_client, safe="") + ":" + urllib.parse.quote(secret, safe="")).encode("ascii")).decode("ascii")
results = {
    "client_secret_basic": request_token({"grant_type": "client_credentials"}, {"Authorization": "Basic " + basic}),
    "client_secret_post": request_token({"grant_type": "client_credentials", "client_id": secret_client, "client_secret": secret}),
    # PyJWT writes typ: JWT, and RFC 7523 puts the token endpoint in aud.
    "private_key_jwt_rfc7523": request_token({
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion(token_endpoint, None)}),
    # The newer draft form: typ client-authentication+jwt, aud = the issuer.
    "private_key_jwt_draft": request_token({
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion(metadata["issuer"], "client-authentication+jwt")}),
}
print(json.dumps({method: verify(token) for method, token in results.items()}))
