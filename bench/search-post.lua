-- wrk script for bench/search.sh: POST /sentence as bench/post-sentence.lua does,
-- but cycling through the JSON bodies in the file WRK_BODIES (one a line), so the
-- search index gets varied words as it would in use.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local requests = {}
local next_request = 1

function init(args)
    for body in io.lines(os.getenv("WRK_BODIES")) do
        requests[#requests + 1] = wrk.format(nil, nil, nil, body)
    end
    -- Each thread starts somewhere else in the list.
    next_request = math.random(#requests)
end

function request()
    local r = requests[next_request]
    next_request = next_request % #requests + 1
    return r
end
