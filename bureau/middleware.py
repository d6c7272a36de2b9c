"""Chinese pages for answers Django gives in English: a GET on a POST-only page (require_POST,
http_method_names) answers HttpResponseNotAllowed, an empty English 405; people get a page saying what
happened instead. The API (/api/) keeps its own JSON answers."""

from __future__ import annotations

from django.http import HttpResponseNotAllowed
from django.shortcuts import render


class ChineseNotAllowedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not request.path.startswith("/api/"):
            page = render(request, "405.html", status=405)
            page["Allow"] = response["Allow"]
            return page
        return response
