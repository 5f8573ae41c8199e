"""A typo in an enum inside a nested TypedDict: KeyAlgorithm "RSA_9999"."""
import acmpca

pca = acmpca.client("acm-pca", region_name="eu-west-1")
pca.create_certificate_authority(
    CertificateAuthorityConfiguration={"KeyAlgorithm": "RSA_9999", "SigningAlgorithm": "SHA256WITHRSA", "Subject": {}},  # E: not a KeyAlgorithmType
    CertificateAuthorityType="ROOT",
)
