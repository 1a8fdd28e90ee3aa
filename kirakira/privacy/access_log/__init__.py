"""The staff access log (policy C10): every time staff see, reveal, create, change or download a
member's personal data, or are refused it, one sealed, append-only row.

- ``chain``: the rows' keyed hash chain, appending, verifying and disposal after two years;
- ``collector``: which members' rows a staff request loaded, seen from the models themselves;
- ``middleware``: one row per staff request that loaded someone's data;
- ``services``: explicit records (reveals, changes, downloads, refusals);
- ``transparency``: the log as a member reads it (page and API); ``review``: the privacy
  roles' monthly review.
"""
