"""CAP 1.2: XML-DSig enveloped signatures of messages (no Django).

CAP 1.2 (section 3.3.2.1) lets a message carry an enveloped XML Signature as the last child of
``<alert>``; strict validators and alert hubs check it against the sender's certificate. The
signature uses exclusive canonicalisation, RSA or ECDSA with SHA-256, and carries the signing
certificate in its ``KeyInfo``.
"""

from __future__ import annotations

from devices.cap.messages import CapError

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
EXCLUSIVE_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def sign(document: bytes, *, key: bytes, cert: bytes, key_password: bytes | None = None) -> bytes:
    """``document`` (a CAP message as written by ``to_xml``) with an enveloped signature.

    ``key`` is the PEM private key and ``cert`` the PEM certificate (or chain) that goes with it.
    Raises CapError if the key or the certificate cannot be used.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    from lxml import etree
    from signxml import SignatureMethod, XMLSigner
    from signxml.algorithms import CanonicalizationMethod

    try:
        private_key = load_pem_private_key(key, password=key_password)
    except (TypeError, ValueError) as exc:
        raise CapError(f"Clé de signature CAP illisible : {exc}") from None
    try:
        certificate = x509.load_pem_x509_certificates(cert)[0]
    except ValueError as exc:
        raise CapError(f"Certificat de signature CAP illisible : {exc}") from None
    if _public(certificate.public_key()) != _public(private_key.public_key()):
        raise CapError("La clé de signature CAP ne correspond pas au certificat configuré.")
    method = (SignatureMethod.ECDSA_SHA256 if isinstance(private_key, EllipticCurvePrivateKey)
              else SignatureMethod.RSA_SHA256)
    root = etree.fromstring(document, parser=etree.XMLParser(remove_blank_text=False,
                                                             resolve_entities=False))
    signer = XMLSigner(signature_algorithm=method, digest_algorithm="sha256",
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    try:
        signed = signer.sign(root, key=private_key, cert=cert.decode("ascii"))
    except Exception as exc:  # signxml raises several types for a mismatched key/certificate
        raise CapError(f"Signature CAP impossible : {exc}") from None
    return _XML_DECLARATION + etree.tostring(signed, encoding="utf-8") + b"\n"


def _public(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def verify(document: bytes, *, cert: bytes) -> bytes:
    """The signed ``<alert>`` (canonical bytes) if its signature verifies with ``cert``.

    Raises CapError otherwise, or if the document carries no signature.
    """
    from signxml import XMLVerifier
    from signxml.exceptions import InvalidInput, InvalidSignature

    try:
        result = XMLVerifier().verify(document, x509_cert=cert.decode("ascii"),
                                      expect_references=1)
    except (InvalidSignature, InvalidInput) as exc:
        raise CapError(f"Signature CAP invalide : {exc}") from None
    return result.signed_data
