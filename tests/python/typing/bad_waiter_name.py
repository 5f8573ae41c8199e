"""A waiter name the model does not have."""
import acmpca

pca = acmpca.client("acm-pca", region_name="eu-west-1")
pca.get_waiter("certificate_issue")  # E: not a WaiterName
