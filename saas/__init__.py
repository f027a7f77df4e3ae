"""The Jiaxing SME informatisation service. Import-free: the app factory is ``saas.app.create_app``."""
