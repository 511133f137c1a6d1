"""Framework callbacks; each imports its framework only when its ``HeraldCallback`` is first used.

- ``herald.integrations.lightning.HeraldCallback`` — PyTorch Lightning (``lightning.pytorch`` or ``pytorch_lightning``)
- ``herald.integrations.transformers.HeraldCallback`` — Hugging Face ``Trainer``
- ``herald.integrations.keras.HeraldCallback`` — Keras 3 (``keras``) or ``tf.keras``
"""
