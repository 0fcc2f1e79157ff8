"""Zoo configs (installed as emozoo.zoo_configs)."""
