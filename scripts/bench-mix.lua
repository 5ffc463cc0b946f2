-- wrk script for scripts/bench.sh: each request is one search of the query mix, around one
-- of several cities, with a radius drawn from 5 to 100 km, so few responses repeat.
local cities = { "Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Bordeaux",
  "Rennes", "Grenoble", "Strasbourg", "Montpellier", "Nice", "69003", "75011" }
local shapes = {
  "/api/v1/events?near=%s&radius_km=%d",
  "/api/v1/events?near=%s&radius_km=%d&sort=distance",
  "/api/v1/events?near=%s&radius_km=%d&q=climat",
  "/api/v1/events?near=%s&radius_km=%d&workshop=FresqueNumerique&audience=training",
  "/api/v1/events?near=%s&radius_km=%d&audience=kids&limit=100",
  "/api/v1/events?q=atelier%%20enfants&sort=relevance&radius_km=%d&near=%s",
  "/api/v1/events?attendance=online&lang=en",
}

-- wrk loads this script once per thread: each thread gets its own seed, so that the
-- threads do not send the same sequence of requests.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("seed", 42 + threads)
end

function init(args)
  math.randomseed(seed)
end

request = function()
  local shape = shapes[math.random(#shapes)]
  local city = cities[math.random(#cities)]
  local radius = math.random(5, 100)
  local path
  if shape:find("q=atelier") then
    path = string.format(shape, radius, city)
  elseif shape:find("near=") then
    path = string.format(shape, city, radius)
  else
    path = shape
  end
  return wrk.format("GET", path)
end
