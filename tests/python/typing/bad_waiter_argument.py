"""A waiter given the arguments of another one's operation."""
import acmpca

pca = acmpca.client("acm-pca", region_name="eu-west-1")
pca.get_waiter("certificate_issued").wait(CertificateAuthorityArn="arn:x", AuditReportId="r")  # E: not GetCertificate's
