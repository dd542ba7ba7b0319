"""The FAPI engine: a financial-grade API's moving parts, for real, on loopback.

A throwaway PKI and RFC 8705 certificate thumbprints (:mod:`.pki`), an OAuth 2.0
authorization server issuing certificate-bound tokens with PKCE, mTLS client authentication,
introspection and revocation (:mod:`.authserver`), the Lambda authorizer events API Gateway
builds (:mod:`.events`), an API-Gateway-like front that terminates mutual TLS against a
truststore and enforces an authorizer's answer (:mod:`.gateway`), the API's authorizer and
mTLS domain read from the API's own requests (:mod:`.apiconfig`), and a reference Lambda
authorizer that checks the binding (:mod:`.authorizers`). Servers bind 127.0.0.1 only.
Pure library: it knows nothing of labs, checks or the CLI.
"""
