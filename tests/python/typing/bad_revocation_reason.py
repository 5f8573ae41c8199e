"""A typo in RevokeCertificate's reason."""
import acmpca

pca = acmpca.client("acm-pca", region_name="eu-west-1")
pca.revoke_certificate(CertificateAuthorityArn="arn:x", CertificateSerial="01", RevocationReason="KEY_COMPROMISED")  # E: not a RevocationReasonType
