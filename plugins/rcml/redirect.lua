-- <Redirect method="POST|GET">url</Redirect>: stop this document and run
-- the one at url (relative URLs resolve against the current document),
-- fetched with the standard parameters. The interpreter bounds a loop of
-- documents that do nothing but redirect.

plugin:verb("Redirect", {
  attrs = {
    method = { type = "method", default = "POST" },
  },
  nests = false,
}, function (_, node)
  local url = node.text
  if url == "" then
    return nil, "invalid-rcml", "<Redirect> needs a URL"
  end
  return { url = url, method = node.attrs.method }
end)
