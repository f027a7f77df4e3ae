"""Forms of the personal account area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from saas.auth.forms import _NewPasswordMixin
from saas.web.forms import BaseForm


class ChangePasswordForm(_NewPasswordMixin, BaseForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
