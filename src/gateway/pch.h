// Precompiled for the gateway: the heavy Asio/Beast/JSON headers every handler file uses.
#pragma once
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
