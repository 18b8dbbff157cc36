"""What `manifest.yaml` cannot say about the two APIs, one module per job.

- `auth`: the Work Analytics login (two headers, `expires_in`, clear refusals).
- `windows`: a slice as the wall-clock window each API reads, in its time zone.
- `page_body`: one parse, check and count per answer, shared by the components below.
- `errors`: answers that are not pages, and the bounded restart of a slice.
- `extraction`: the records of a page.
- `filtering`: each record once per sync, in the slice that owns its cursor.
- `pagination`: `scrollId` and the contact-center search with `search_token`.
- `summaries`: the Work Analytics summary reports' lenient bodies, the PBX directory's pages, `check` of `pbx_ids`.
- `timeutil`, `interpolation`: instants as the APIs write them; manifest values of custom components.

Every component works on the CDK's stock read path. None of them knows about `source_8x8_cdr.fastpath`, which
reads the same streams a page at a time when the CDK's internals are what it expects.
"""
