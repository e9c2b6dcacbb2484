// Include Boost.Asio through this header only: Boost 1.74's awaitable.hpp uses
// std::exchange without including <utility>, which g++ 12 in C++20 mode rejects.
#pragma once
#include <utility>  // must precede boost/asio.hpp

#include <boost/asio.hpp>
