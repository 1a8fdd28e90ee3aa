"""Messages of Django's own that Kirakira translates itself.

Django's Japanese catalog renders "Null characters are not allowed." as a request to enter
some characters, which misleads the member. Listing the message here puts it in Kirakira's
catalog, which takes precedence over Django's.
"""

from django.utils.translation import gettext_noop

OVERRIDDEN = [
    gettext_noop("Null characters are not allowed."),
]
