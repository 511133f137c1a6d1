"""Herald's Python client: report training runs to Herald without ever slowing or breaking them.

    import herald
    run = herald.Client().start_run(project="llm-finetune", name="bert-lr3e-4")
    run.log({"val/loss": 0.183}, step=1200)

Standard library only. Framework callbacks live in ``herald.integrations`` (Lightning,
Transformers, Keras); ``python -m herald`` reports run states and alerts from shell scripts.
"""

from ._client import Client, default_client
from ._run import Run
from ._version import __version__
from ._watch import current_run, watch

__all__ = ["Client", "Run", "watch", "current_run", "default_client", "__version__"]
