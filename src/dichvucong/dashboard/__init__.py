"""The officials' dashboard: read-only pages, exports and a JSON API over the published marts.

`tables` holds every table the dashboard shows (its SQL, filters and columns);
`reader` opens the published copy; `render` formats numbers, charts and files;
`app` serves pages (`/`), the API (`/api/v1/<table>`) and its OpenAPI document.
"""
