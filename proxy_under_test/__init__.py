"""The reference pull-through proxy: the documented rules, done right.

with ReferenceProxy(ProxyConfig(upstream="http://127.0.0.1:5000", cache_dir=Path("cache"))) as proxy:
    proxy.url  # "http://127.0.0.1:<port>": /v2/<repo> is the upstream's <repo>, cached on disk
"""

from proxy_under_test._cache import Cache, CacheLocked
from proxy_under_test._config import NOT_FOUND_POLICIES, NotFoundPolicy, ProxyConfig
from proxy_under_test._defects import DEFECTS, Defect, parse_defects
from proxy_under_test._server import ReferenceProxy
from proxy_under_test._variants import VARIANTS, Variant, parse_variants

__all__ = [
    "DEFECTS",
    "NOT_FOUND_POLICIES",
    "Cache",
    "CacheLocked",
    "Defect",
    "NotFoundPolicy",
    "ProxyConfig",
    "ReferenceProxy",
    "VARIANTS",
    "Variant",
    "parse_defects",
    "parse_variants",
]
