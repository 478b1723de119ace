"""HTMX requests that want a fragment, told apart from those that want a whole page.

The site's body is `hx-boost`ed so that the player keeps playing across navigation: every link and form is
fetched by HTMX and the new page's body swapped in. Such a boosted request, and htmx's reload of a page when the
listener goes back in history, want the whole page; only requests made by an explicit `hx-get`/`hx-post` want a
fragment. Views ask `if request.htmx:` as django-htmx documents; this middleware makes that false for the two
whole-page kinds, so no view has to remember them.
"""

from __future__ import annotations

from django_htmx.middleware import HtmxDetails, HtmxMiddleware


class FragmentHtmxDetails(HtmxDetails):
    def __bool__(self) -> bool:
        return super().__bool__() and not self.boosted and not self.history_restore_request


class FragmentHtmxMiddleware(HtmxMiddleware):
    def __call__(self, request):
        request.htmx = FragmentHtmxDetails(request)
        return self.get_response(request)
