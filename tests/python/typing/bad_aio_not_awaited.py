"""acmpca.aio: a result used without await."""
import acmpca.aio


async def main() -> None:
    async with acmpca.aio.client("acm-pca", region_name="eu-west-1") as pca:
        out = pca.get_policy(ResourceArn="arn:x")
        print(out["Policy"])  # E: a coroutine, not the result
