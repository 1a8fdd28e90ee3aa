from django.core.exceptions import ValidationError


def collect(errors: dict, field: str, clean, *args):
    """``clean(*args)``, or None with its errors added to ``errors[field]``: so a service checks
    every field and reports all problems at once. The ValidationErrors themselves are kept, so
    their codes survive."""
    try:
        return clean(*args)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(getattr(exc, "error_list", exc.messages))
        return None
