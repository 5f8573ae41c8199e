"""A required argument left out: IssueCertificate without Validity."""
import acmpca

pca = acmpca.client("acm-pca", region_name="eu-west-1")
pca.issue_certificate(CertificateAuthorityArn="arn:x", Csr=b"csr", SigningAlgorithm="SHA256WITHRSA")  # E: Validity missing
