"""A misspelt keyword argument of an operation."""
import acmpca

pca = acmpca.client("acm-pca", region_name="eu-west-1")
pca.list_permissions(CertificateAuthorityArn="arn:x", MaxResult=10)  # E: no such argument
