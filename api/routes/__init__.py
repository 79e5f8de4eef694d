"""One module per resource.

Routes return the engine's plain views (dicts and lists), which FastAPI
answers through its jsonable_encoder. A route whose return annotation is not
a Response says `response_model=None`: FastAPI would otherwise make a response
model of the annotation and validate and serialize every answer again through
pydantic, which changes how some values are written and what the OpenAPI
document says. Error answers are described with `responses=` (api.responses).
"""
