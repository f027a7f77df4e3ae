"""The account feature: routes in views.py, forms in forms.py, writes in services.py."""
