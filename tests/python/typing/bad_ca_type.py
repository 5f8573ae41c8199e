"""A typo in an enum argument: CertificateAuthorityType="ROOOT"."""
import acmpca

pca = acmpca.client("acm-pca", region_name="eu-west-1")
pca.create_certificate_authority(
    CertificateAuthorityConfiguration={"KeyAlgorithm": "RSA_2048", "SigningAlgorithm": "SHA256WITHRSA", "Subject": {"CommonName": "x"}},
    CertificateAuthorityType="ROOOT",  # E: not a CertificateAuthorityTypeType
)
