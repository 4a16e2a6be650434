-- wrk script: POST one sentence per request, as the loader does.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"author": "User1", "sentence": "Massa id neque aliquam vestibulum morbi blandit cursus"}'
