"""A misspelt key read from a result."""
import acmpca

pca = acmpca.client("acm-pca", region_name="eu-west-1")
out = pca.get_certificate(CertificateAuthorityArn="arn:x", CertificateArn="arn:y")
print(out["CertificateChains"])  # E: no such key
